"""The OpenAI Agents SDK (PyPI `openai-agents`) running agents through the gateway's Responses
API: a function tool the model calls and whose result it answers from, and a handoff from a
triage agent to a specialist, on a target that speaks the Responses API natively (OpenAI) and
on Anthropic and Gemini targets by translation."""

import asyncio

import pytest
from agents import Agent, OpenAIResponsesModel, Runner, function_tool, set_tracing_disabled
from openai import AsyncOpenAI

# The SDK would otherwise export traces to OpenAI's servers.
set_tracing_disabled(True)

ROUTES = pytest.mark.parametrize("route", ["responses-native", "claude", "gemini"])

calls: list[str] = []


@function_tool
def get_weather(city: str) -> str:
    """The current weather in a city."""
    calls.append(city)
    return f"It is 3 degrees and clear in {city}."


def model(gateway, route: str) -> OpenAIResponsesModel:
    client = AsyncOpenAI(base_url=f"{gateway.url}/v1", api_key="test", max_retries=0)
    return OpenAIResponsesModel(model=route, openai_client=client)


@ROUTES
def test_an_agent_calls_its_function_tool_and_answers(gateway, route):
    calls.clear()
    agent = Agent(
        name="Assistant",
        instructions="Answer weather questions with the tool.",
        tools=[get_weather],
        model=model(gateway, route),
    )
    result = asyncio.run(Runner.run(agent, "What is the weather in Oslo?", max_turns=4))
    assert calls, f"{route}: the tool was never called"
    assert isinstance(result.final_output, str) and result.final_output
    kinds = [item.type for item in result.new_items]
    assert "tool_call_item" in kinds and "tool_call_output_item" in kinds, kinds


@ROUTES
def test_a_triage_agent_hands_off_to_the_specialist(gateway, route):
    specialist = Agent(
        name="Weather agent",
        instructions="You answer weather questions.",
        model=model(gateway, route),
    )
    triage = Agent(
        name="Triage agent",
        instructions="Hand weather questions to the weather agent.",
        handoffs=[specialist],
        model=model(gateway, route),
    )
    result = asyncio.run(Runner.run(triage, "Will it rain in Bergen?", max_turns=4))
    assert result.last_agent.name == "Weather agent", route
    assert "handoff_output_item" in [item.type for item in result.new_items]
    assert result.final_output
